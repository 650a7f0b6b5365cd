"""How bytes reach a database: the Timestream target (AWS or any compatible endpoint)."""
