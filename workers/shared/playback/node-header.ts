// The header a stadium node sets on its own upstream requests to the platform.

/** Marks a node's upstream requests: the platform answers with the shared playlists, never a viewer's personal one. */
export const NODE_HEADER = "x-balancer-node";
