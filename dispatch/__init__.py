"""Courier dispatches (encomiendas) to the regional units."""
