"""Citizen ratings: storage, SQL roll-ups and rating-derived indicator values."""
