"""People: names, users and roles, invites, access and departures."""
