"""Storage: SQLModel tables, repositories, inbox/outbox, migrations."""
