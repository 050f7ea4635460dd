// The operator's side of a stadium node, for `npm start`, the tests and the bench: provision it and get a
// registration key (a new one when the node already existed, since a key is shown only once).
export interface NodeProvisioning {
  name?: string;
  eventIds: string[];
  capacityMbps?: number;
}

/** PUT /admin/pull-zones/{id}; for a node that existed, POST …/registration-key. Returns the key. */
export async function provisionNode(platformUrl: string, adminToken: string, id: string, p: NodeProvisioning): Promise<string> {
  const base = `${platformUrl.replace(/\/+$/, "")}/api/v1/admin/pull-zones/${encodeURIComponent(id)}`;
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const put = await fetch(base, {
    method: "PUT",
    headers,
    body: JSON.stringify({ name: p.name ?? id, eventIds: p.eventIds, ...(p.capacityMbps !== undefined ? { capacityMbps: p.capacityMbps } : {}) }),
  });
  if (put.status !== 201 && put.status !== 200) throw new Error(`provisioning stadium node ${id}: ${put.status} ${await put.text()}`);
  const created = (await put.json()) as { registrationKey?: string };
  if (created.registrationKey) return created.registrationKey;
  const rotated = await fetch(`${base}/registration-key`, { method: "POST", headers });
  if (rotated.status !== 200) throw new Error(`a registration key for stadium node ${id}: ${rotated.status} ${await rotated.text()}`);
  return ((await rotated.json()) as { registrationKey: string }).registrationKey;
}
