"""Radio transports behind one small interface, the outbox, and the mesh simulator."""
