"""The cloud relay: event ingest, Discord bridge and Gemini tactician (the relay extra)."""
