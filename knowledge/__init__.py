"""The case base: records from the MHLW guide chapter, their search, and the answers built from them."""
