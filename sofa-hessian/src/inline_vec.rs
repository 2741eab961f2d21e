//! A tiny vector that keeps its first `N` elements inline (no allocation for the
//! small tables of a typical message), spilling to the heap beyond that.

#[derive(Clone)]
pub(super) struct InlineVec<T, const N: usize> {
    inline: [T; N],
    len: usize,
    spill: Vec<T>,
}

impl<T: Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        InlineVec {
            inline: std::array::from_fn(|_| T::default()),
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl<T: Default, const N: usize> InlineVec<T, N> {
    /// Removes the last element.
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        if self.len < N {
            self.inline.get_mut(self.len).map(std::mem::take)
        } else {
            self.spill.pop()
        }
    }

    /// Removes all elements.
    pub(crate) fn clear(&mut self) {
        while self.pop().is_some() {}
    }
}

impl<T, const N: usize> InlineVec<T, N> {
    /// Iterates over the elements in order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        (0..self.len).filter_map(move |i| self.get(i))
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = value,
            None => self.spill.push(value),
        }
        self.len += 1;
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            None
        } else if i < N {
            self.inline.get(i)
        } else {
            self.spill.get(i - N)
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            None
        } else if i < N {
            self.inline.get_mut(i)
        } else {
            self.spill.get_mut(i - N)
        }
    }
}
