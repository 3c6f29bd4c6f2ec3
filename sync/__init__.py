"""Node-to-relay sync: the uplink (node side) and the cloud relay."""
