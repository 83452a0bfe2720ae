"""Media: files operators upload and customers send, in the media store, with the limits they must meet."""
