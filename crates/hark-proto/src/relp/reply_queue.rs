//! Replies held back until every earlier reply can go out.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::session::{error_reply, ok_reply};

/// One reply slot, in the order the commands arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// A delivered message whose storage has not been confirmed yet.
    Pending(u32),
    /// A reply that can be sent as soon as everything before it is sent.
    Ready(Bytes),
}

/// The FIFO of replies of one RELP connection.
///
/// RELP requires replies in the order the commands were received, but a
/// message may only be acknowledged once it is durable. The listener pushes
/// a pending slot for every [`Action::Deliver`](super::Action::Deliver) and
/// the bytes of every other reply, marks deliveries durable (or failed) as
/// the write-ahead log confirms them, and writes whatever
/// [`take_ready`](Self::take_ready) returns: the ready replies at the front,
/// up to the first one still pending.
///
/// ```
/// use hark_proto::relp::ReplyQueue;
///
/// let mut q = ReplyQueue::new();
/// q.push_pending(2);
/// q.push_pending(3);
/// assert!(q.mark_durable(3));
/// assert_eq!(q.take_ready(), None); // 2 is not durable yet
/// assert!(q.mark_durable(2));
/// assert_eq!(&q.take_ready().unwrap()[..], b"2 rsp 6 200 OK\n3 rsp 6 200 OK\n");
/// assert!(q.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReplyQueue {
    /// Reply slots, oldest first.
    slots: VecDeque<Slot>,
}

impl ReplyQueue {
    /// An empty queue.
    pub fn new() -> Self {
        ReplyQueue::default()
    }

    /// Reserves the reply slot of a delivered message.
    pub fn push_pending(&mut self, txnr: u32) {
        self.slots.push_back(Slot::Pending(txnr));
    }

    /// Queues a reply that needs no confirmation (behind any pending ones).
    pub fn push_reply(&mut self, reply: Bytes) {
        self.slots.push_back(Slot::Ready(reply));
    }

    /// The message of `txnr` is durable: its slot becomes `200 OK`.
    /// False when no pending slot has that TXNR.
    pub fn mark_durable(&mut self, txnr: u32) -> bool {
        self.resolve(txnr, ok_reply(txnr))
    }

    /// The message of `txnr` could not be stored: its slot becomes a 500
    /// with `text`. False when no pending slot has that TXNR.
    pub fn mark_failed(&mut self, txnr: u32, text: &str) -> bool {
        self.resolve(txnr, error_reply(txnr, text))
    }

    fn resolve(&mut self, txnr: u32, reply: Bytes) -> bool {
        match self.slots.iter_mut().find(|s| **s == Slot::Pending(txnr)) {
            Some(slot) => {
                *slot = Slot::Ready(reply);
                true
            }
            None => false,
        }
    }

    /// Removes the ready replies at the front, joined in order; `None` when
    /// the front slot is still pending or the queue is empty.
    pub fn take_ready(&mut self) -> Option<Bytes> {
        let mut out = BytesMut::new();
        let mut taken = 0usize;
        while let Some(Slot::Ready(reply)) = self.slots.front() {
            out.extend_from_slice(reply);
            self.slots.pop_front();
            taken += 1;
        }
        (taken > 0).then(|| out.freeze())
    }

    /// Slots not yet taken, pending or ready.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether every reply has been taken.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Deliveries still waiting to be confirmed.
    pub fn pending(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Pending(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_replies_wait_behind_pending_ones() {
        let mut q = ReplyQueue::new();
        q.push_pending(2);
        q.push_reply(Bytes::from_static(b"3 rsp 0\n"));
        assert_eq!(q.take_ready(), None);
        assert_eq!(q.pending(), 1);
        assert!(q.mark_failed(2, "disk full"));
        assert_eq!(
            &q.take_ready().unwrap()[..],
            b"2 rsp 13 500 disk full\n3 rsp 0\n"
        );
        assert_eq!(q.take_ready(), None);
    }

    #[test]
    fn unknown_or_repeated_marks_are_refused() {
        let mut q = ReplyQueue::new();
        q.push_pending(5);
        assert!(!q.mark_durable(6));
        assert!(q.mark_durable(5));
        assert!(!q.mark_durable(5));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn only_the_contiguous_prefix_is_taken() {
        let mut q = ReplyQueue::new();
        for t in 1..=4 {
            q.push_pending(t);
        }
        q.mark_durable(1);
        q.mark_durable(2);
        q.mark_durable(4);
        assert_eq!(
            &q.take_ready().unwrap()[..],
            b"1 rsp 6 200 OK\n2 rsp 6 200 OK\n"
        );
        assert_eq!(q.len(), 2);
        q.mark_durable(3);
        assert_eq!(
            &q.take_ready().unwrap()[..],
            b"3 rsp 6 200 OK\n4 rsp 6 200 OK\n"
        );
    }
}
