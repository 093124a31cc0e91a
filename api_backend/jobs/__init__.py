"""Jobs: the upload → queue → worker → outputs lifecycle."""
