mod hub_client;
mod sim;
