"""Nimo: a chat bot for frontline staff of community mental health (にも包括)."""
