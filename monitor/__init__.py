"""THINKING: configuration, alignment, models, alerts, notifications, the daily pipeline and the CLI."""
