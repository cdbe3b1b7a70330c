"""Frames: the event-stream decoder and encoder, both backends, their selection, hostile input and threads."""
