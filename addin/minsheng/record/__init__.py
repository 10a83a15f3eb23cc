"""The year's record (历史数据库): every period's accepted values, kept in SQLite."""
