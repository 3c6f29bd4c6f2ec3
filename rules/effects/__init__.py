"""The effect engine: typed effect trees (nodes), typed effect records on creatures, one resolver."""
