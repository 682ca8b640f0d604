"""The chat core: messages in and replies out, routes, the router and dialogs."""
