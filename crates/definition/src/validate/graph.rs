//! Cycles in `parent` (including the implicit link of parentless objects to `Default`) and in
//! `dependsOn`.
//!
//! Each cycle is reported once, under its object that comes first in the definition, as the
//! path that closes it (`A -> B -> A`). Search is iterative so that long chains cannot exhaust
//! the stack.

use std::collections::HashSet;

use sluice_model::FieldValue;

use super::Validator;
use crate::report::Code;
use crate::resolve::DEFAULT_ID;

impl Validator<'_> {
    pub(super) fn check_cycles(&mut self) {
        let objects = &self.pipeline.objects;
        let default = self.pipeline.position(DEFAULT_ID);
        let first = |i: usize| self.pipeline.position(&objects[i].id) == Some(i);

        let mut parent_edges: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
        for (i, object) in objects.iter().enumerate().filter(|(i, _)| first(*i)) {
            let explicit: Vec<usize> = object
                .own
                .values("parent")
                .filter_map(FieldValue::as_ref_id)
                .filter_map(|id| self.pipeline.position(id))
                .collect();
            parent_edges[i] = if explicit.is_empty() {
                default.filter(|&d| d != i).into_iter().collect()
            } else {
                explicit
            };
        }
        for cycle in find_cycles(&parent_edges) {
            let through_default = cycle.iter().any(|&i| Some(i) == default);
            let note = if through_default {
                " (Default is the implicit parent of every object without 'parent', so it \
                 cannot inherit from another object)"
            } else {
                ""
            };
            let path = self.render(&cycle);
            self.out.error(
                &objects[cycle[0]].id,
                Code::CircularReference,
                format!("'parent' links form a cycle: {path}{note}"),
            );
        }

        let mut depends: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
        for (i, object) in objects.iter().enumerate().filter(|(i, _)| first(*i)) {
            depends[i] = object
                .references("dependsOn")
                .filter_map(|id| self.pipeline.position(id))
                .collect();
        }
        for cycle in find_cycles(&depends) {
            let path = self.render(&cycle);
            self.out.error(
                &objects[cycle[0]].id,
                Code::CircularDependency,
                format!("'dependsOn' links form a cycle: {path}"),
            );
        }
    }

    fn render(&self, cycle: &[usize]) -> String {
        let mut names: Vec<&str> = cycle
            .iter()
            .map(|&i| self.pipeline.objects[i].id.as_str())
            .collect();
        names.push(names[0]);
        names.join(" -> ")
    }
}

/// Every elementary cycle met by a depth-first search from each node in order, rotated to start
/// at its smallest node, without repeats.
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; edges.len()];
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if state[root] != State::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = State::Open;
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            if let Some(&to) = edges[node].get(top.1) {
                top.1 += 1;
                match state[to] {
                    State::New => {
                        state[to] = State::Open;
                        stack.push((to, 0));
                    }
                    State::Open => {
                        let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut cycle: Vec<usize> =
                            stack[start..].iter().map(|&(n, _)| n).collect();
                        let min = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, n)| **n)
                            .map_or(0, |(p, _)| p);
                        cycle.rotate_left(min);
                        if seen.insert(cycle.clone()) {
                            cycles.push(cycle);
                        }
                    }
                    State::Done => {}
                }
            } else {
                state[node] = State::Done;
                stack.pop();
            }
        }
    }
    cycles.sort();
    cycles
}

#[cfg(test)]
mod tests {
    use super::find_cycles;

    #[test]
    fn finds_self_loops_and_longer_cycles_once() {
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        assert_eq!(find_cycles(&edges), vec![vec![0, 1, 2], vec![3]]);
        let entered_late = vec![vec![], vec![2], vec![1], vec![1]];
        assert_eq!(find_cycles(&entered_late), vec![vec![1, 2]]);
        assert!(find_cycles(&[vec![1], vec![2], vec![]]).is_empty());
    }
}
