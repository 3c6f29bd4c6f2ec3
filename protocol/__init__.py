"""Pure wire formats: binary codec, frames, text grammar and renderer, LoRa airtime."""
