"""One adapter per platform: parse what arrives into an Incoming, render replies the platform's way."""
