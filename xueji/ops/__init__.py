"""Operations: backup and restore, the doctor, structured request logs and security headers."""
