// Designs that browser tests import into rooms of the blog tutorial (`tutorial-simple-blog`).

/**
 * Readers → load balancer → an app fleet of 3 → the posts database: T0 and T1 of the tutorial.
 * `primaryY` moves the database up or down (the export test wants an edge that curves).
 */
export function blogDesign({ primaryY = 0 } = {}) {
  return {
    nodes: [
      { id: 'c', type: 'client', label: 'Readers', x: 0, y: 0, params: {} },
      { id: 'l', type: 'lb', label: 'Load Balancer', x: 320, y: 0, params: {} },
      { id: 'a', type: 'app', label: 'Blog API', x: 640, y: 0, params: { instances: 3 } },
      { id: 'p', type: 'db_primary', label: 'Posts DB', x: 960, y: primaryY, params: {} },
    ],
    edges: [
      { id: 'e1', from: 'c', to: 'l', label: 'HTTPS' },
      { id: 'e2', from: 'l', to: 'a' },
      { id: 'e3', from: 'a', to: 'p', label: 'writes' },
    ],
  }
}
