"""The privacy guard every text Nimo keeps passes first."""
