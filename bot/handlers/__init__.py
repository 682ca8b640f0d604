"""One user intent per module.  Handlers take an App and an Incoming and return replies;
they never import a platform SDK."""
