"""One blueprint per concern: health, connectors (Looker Studio protocol), admin."""
