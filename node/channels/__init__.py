"""The node's input channels: radio text, radio binary frames, and the local control socket."""
