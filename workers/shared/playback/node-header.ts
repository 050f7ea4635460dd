// The headers between a stadium node and the platform.

/** Marks a node's upstream requests: the platform answers with the shared playlists, never a viewer's personal one. */
export const NODE_HEADER = "x-balancer-node";

/**
 * On a playback answer: the lowest BANDWIDTH of a variant that reaches the resource, when above 0. A node
 * keeps it with the bytes, so a viewer capped below it is refused there as at the edge.
 */
export const BANDWIDTH_HEADER = "x-balancer-bandwidth";
