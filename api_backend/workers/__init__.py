"""Worker registry: which workers are alive and which queues they consume."""
