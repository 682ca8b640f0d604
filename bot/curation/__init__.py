"""What curators keep the case base with: the log of questions Nimo could not answer and of 👎
answers (``gaps``), and the cases proposed from the field (``proposals``).

Kept apart from ``bot/handlers/`` because both the chat (which writes them) and the console in
the web process (which reads and decides them) use them, and the web process must not import a
handler: the handlers pull in the search, numpy and the tokenizer.
"""
