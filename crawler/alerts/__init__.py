"""Alert channels (one module each) behind one small interface, and the outbox."""
