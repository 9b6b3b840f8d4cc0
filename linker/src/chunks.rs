//! Sharing the code section between threads, for any machine state.
//!
//! The bodies are cut into chunks of about equal input size, in output
//! order. The calling thread takes chunks from the front and writes them
//! straight into the output; helper threads take them from the back into
//! buffers of their own, which are appended afterwards. The two ends meet
//! wherever the threads' speeds put them. A fixed split by input size
//! (the previous design) left one core idle for 5-35 ms of a ~90 ms phase
//! whenever the other was slowed down (a busy host, page faults), which on
//! a shared VM is most runs.

use std::sync::Mutex;

/// Chunks `0..n` of work, each claimed once, from either end.
pub(crate) struct Chunks<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// Next chunk from the front.
    front: usize,
    /// One past the next chunk from the back.
    back: usize,
    items: Vec<Option<T>>,
}

impl<T> Chunks<T> {
    /// The chunks, in order.
    pub(crate) fn new(items: Vec<T>) -> Self {
        let back = items.len();
        Chunks { state: Mutex::new(State { front: 0, back, items: items.into_iter().map(Some).collect() }) }
    }

    /// The lowest unclaimed chunk and its index.
    pub(crate) fn front(&self) -> Option<(usize, T)> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.front == s.back {
            return None;
        }
        let k = s.front;
        s.front += 1;
        s.items[k].take().map(|t| (k, t))
    }

    /// The highest unclaimed chunk and its index.
    pub(crate) fn back(&self) -> Option<(usize, T)> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.front == s.back {
            return None;
        }
        s.back -= 1;
        let k = s.back;
        s.items[k].take().map(|t| (k, t))
    }
}

/// Cuts `sizes` (in order) into runs of about `target` total size each;
/// returns the start of each run and `sizes.len()` at the end.
pub(crate) fn bounds(sizes: impl Iterator<Item = usize>, target: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let (mut acc, mut n) = (0, 0);
    for size in sizes {
        acc += size;
        n += 1;
        if acc >= target {
            bounds.push(n);
            acc = 0;
        }
    }
    if *bounds.last().unwrap_or(&0) != n {
        bounds.push(n);
    }
    bounds
}

/// Splits `v` at `bounds` (from [`bounds`]) into owned runs, in order:
/// run `k` is `v[bounds[k]..bounds[k + 1]]`.
pub(crate) fn split_runs<T>(mut v: Vec<T>, bounds: &[usize]) -> Vec<Vec<T>> {
    let mut runs: Vec<Vec<T>> = bounds.windows(2).rev().map(|w| v.split_off(w[0])).collect();
    runs.reverse();
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_claim_every_chunk_once() {
        let c = Chunks::new(vec!['a', 'b', 'c', 'd']);
        assert_eq!(c.front(), Some((0, 'a')));
        assert_eq!(c.back(), Some((3, 'd')));
        assert_eq!(c.back(), Some((2, 'c')));
        assert_eq!(c.front(), Some((1, 'b')));
        assert_eq!(c.front(), None);
        assert_eq!(c.back(), None);
    }

    #[test]
    fn runs_split_at_the_bounds() {
        let b = bounds([5, 5, 5, 5, 1].into_iter(), 10);
        assert_eq!(split_runs(vec!['a', 'b', 'c', 'd', 'e'], &b), vec![vec!['a', 'b'], vec!['c', 'd'], vec!['e']]);
        assert_eq!(split_runs(Vec::<u8>::new(), &[0]), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn bounds_cut_by_size() {
        assert_eq!(bounds([5, 5, 5, 5, 1].into_iter(), 10), vec![0, 2, 4, 5]);
        assert_eq!(bounds([20, 1].into_iter(), 10), vec![0, 1, 2]);
        assert_eq!(bounds([1, 2].into_iter(), 10), vec![0, 2]);
        assert_eq!(bounds(std::iter::empty(), 10), vec![0]);
    }
}
