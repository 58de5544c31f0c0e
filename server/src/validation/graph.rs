//! The design as a directed graph, for the path advisories: is any storage reachable from a client,
//! and which nodes lie on every such path (single points of failure).
//!
//! Vertices are dense indices; adjacency is stored compressed (one offsets array, one targets array)
//! so building the graph is two passes over the edges and no allocation per vertex. Traversals are
//! iterative: a design is user input, and a 5,000-node chain must not overflow the stack.

/// A directed graph in compressed sparse row form, with the reverse adjacency for predecessors.
pub struct Graph {
    out_offsets: Vec<u32>,
    out_targets: Vec<u32>,
    in_offsets: Vec<u32>,
    in_sources: Vec<u32>,
}

fn compress(
    vertices: usize,
    edges: &[(u32, u32)],
    key: impl Fn(&(u32, u32)) -> (u32, u32),
) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; vertices + 1];
    for e in edges {
        offsets[key(e).0 as usize + 1] += 1;
    }
    for i in 0..vertices {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut targets = vec![0u32; edges.len()];
    for e in edges {
        let (from, to) = key(e);
        let slot = &mut fill[from as usize];
        targets[*slot as usize] = to;
        *slot += 1;
    }
    (offsets, targets)
}

impl Graph {
    /// Builds the graph over `vertices` vertices; every edge endpoint must be below `vertices`.
    pub fn new(vertices: usize, edges: &[(u32, u32)]) -> Graph {
        let (out_offsets, out_targets) = compress(vertices, edges, |&(a, b)| (a, b));
        let (in_offsets, in_sources) = compress(vertices, edges, |&(a, b)| (b, a));
        Graph {
            out_offsets,
            out_targets,
            in_offsets,
            in_sources,
        }
    }

    pub fn len(&self) -> usize {
        self.out_offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn successors(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.out_targets[self.out_offsets[v] as usize..self.out_offsets[v + 1] as usize]
    }

    pub fn predecessors(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.in_sources[self.in_offsets[v] as usize..self.in_offsets[v + 1] as usize]
    }

    /// Depth-first search from `root`: the reachable vertices in reverse postorder.
    pub fn reverse_postorder(&self, root: u32) -> Vec<u32> {
        let mut visited = vec![false; self.len()];
        let mut order = Vec::with_capacity(self.len());
        // (vertex, index of the next successor to look at)
        let mut stack: Vec<(u32, u32)> = vec![(root, 0)];
        visited[root as usize] = true;
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            let successors = self.successors(v);
            if let Some(&w) = successors.get(next as usize) {
                top.1 += 1;
                if !visited[w as usize] {
                    visited[w as usize] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(v);
                stack.pop();
            }
        }
        order.reverse();
        order
    }

    /// The vertices that lie on every path from `root` to `target`, excluding both, nearest to
    /// `target` first; `None` when `target` is unreachable.
    ///
    /// Immediate dominators by the iterative algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast
    /// Dominance Algorithm", 2001): near-linear on the small, shallow graphs designs are.
    pub fn dominators_of(&self, root: u32, target: u32) -> Option<Vec<u32>> {
        const UNDEFINED: u32 = u32::MAX;
        let rpo = self.reverse_postorder(root);
        let mut rank = vec![UNDEFINED; self.len()];
        for (i, &v) in rpo.iter().enumerate() {
            rank[v as usize] = i as u32;
        }
        if rank[target as usize] == UNDEFINED {
            return None;
        }
        // idom indexed by rank, holding ranks: intersect walks toward rank 0 (the root).
        let mut idom = vec![UNDEFINED; rpo.len()];
        idom[0] = 0;
        let mut changed = true;
        while changed {
            changed = false;
            for (i, &v) in rpo.iter().enumerate().skip(1) {
                let mut new_idom = UNDEFINED;
                for &p in self.predecessors(v) {
                    let p = rank[p as usize];
                    if p == UNDEFINED || idom[p as usize] == UNDEFINED {
                        continue;
                    }
                    new_idom = if new_idom == UNDEFINED {
                        p
                    } else {
                        let (mut a, mut b) = (p, new_idom);
                        while a != b {
                            while a > b {
                                a = idom[a as usize];
                            }
                            while b > a {
                                b = idom[b as usize];
                            }
                        }
                        a
                    };
                }
                if idom[i] != new_idom {
                    idom[i] = new_idom;
                    changed = true;
                }
            }
        }
        let mut chain = Vec::new();
        let mut at = idom[rank[target as usize] as usize];
        while at != 0 {
            chain.push(rpo[at as usize]);
            at = idom[at as usize];
        }
        Some(chain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_is_dominated_by_every_middle_vertex() {
        // 0 -> 1 -> 2 -> 3
        let g = Graph::new(4, &[(0, 1), (1, 2), (2, 3)]);
        assert_eq!(g.dominators_of(0, 3), Some(vec![2, 1]));
    }

    #[test]
    fn parallel_branches_dominate_nothing_but_the_join() {
        // 0 -> 1 -> {2, 3} -> 4 -> 5
        let g = Graph::new(6, &[(0, 1), (1, 2), (1, 3), (2, 4), (3, 4), (4, 5)]);
        assert_eq!(g.dominators_of(0, 5), Some(vec![4, 1]));
    }

    #[test]
    fn unreachable_target_and_cycles() {
        let g = Graph::new(4, &[(0, 1), (1, 0), (1, 1), (2, 3)]);
        assert_eq!(g.dominators_of(0, 3), None);
        let g = Graph::new(4, &[(0, 1), (1, 2), (2, 1), (2, 3), (0, 2)]);
        assert_eq!(g.dominators_of(0, 3), Some(vec![2]));
    }

    #[test]
    fn long_chain_does_not_overflow_the_stack() {
        let n = 200_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let g = Graph::new(n as usize, &edges);
        assert_eq!(g.reverse_postorder(0).len(), n as usize);
        assert_eq!(
            g.dominators_of(0, n - 1).map(|d| d.len()),
            Some(n as usize - 2)
        );
    }
}
