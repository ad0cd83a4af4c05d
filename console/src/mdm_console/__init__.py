"""The browser console of data stewards and compliance officers.

One more client of the gateway: it holds each user's gateway token in a
server-side session and renders pages; it never reads a subgraph, the graph
server or the broker.
"""
