"""Reminders and follow-up visit plans (their own issue); the package exists so the layout holds."""
