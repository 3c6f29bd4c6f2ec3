"""The mesh simulator, the simulated Meshtastic device and bot players: what `dungeon sim`, `dungeon device` and the demo run; never shipped to a radio."""
