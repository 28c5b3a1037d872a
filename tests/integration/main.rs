mod hub_client;
