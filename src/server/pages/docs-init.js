// Starts Swagger UI on the OpenAPI document named by #swagger-ui's data-url. The validator badge
// is off: it would send the document to a public service.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});
