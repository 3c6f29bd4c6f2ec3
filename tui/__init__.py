"""The Textual DM console."""
