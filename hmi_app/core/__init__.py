"""The vocabulary every layer shares: tag values, quality, data types, the TagSource protocol and
the project model. Nothing here imports Qt or any other package of ours."""
