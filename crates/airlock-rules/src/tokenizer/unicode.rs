//! Character classes of the pre-tokenizers (generated from regex-syntax's Unicode tables).

#[allow(clippy::all)]
mod table {
    include!("../generated/tokenizer/unicode_classes.rs");
}

/// The class of a character as the tiktoken patterns see it. The general categories are disjoint
/// and `White_Space` characters are none of L, M or N, so one class per character is enough.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Class {
    /// Anything else: punctuation, symbols, controls, format characters, unassigned.
    Other = 0,
    /// `Lu` or `Lt`.
    Upper = 1,
    /// `Ll`.
    Lower = 2,
    /// `Lm` or `Lo`.
    LetterOther = 3,
    /// `M` (`Mn`, `Mc`, `Me`).
    Mark = 4,
    /// `N` (`Nd`, `Nl`, `No`).
    Number = 5,
    /// Unicode `White_Space` (what `\s` means to the regex crate).
    Space = 6,
}

const FROM_U8: [Class; 7] = [
    Class::Other,
    Class::Upper,
    Class::Lower,
    Class::LetterOther,
    Class::Mark,
    Class::Number,
    Class::Space,
];

/// The class of code point `cp` (any value below 0x110000).
#[inline]
pub(crate) fn class(cp: u32) -> Class {
    let block = table::INDEX[(cp >> table::SHIFT) as usize] as usize;
    let v = table::BLOCKS[(block << table::SHIFT) | (cp as usize & ((1 << table::SHIFT) - 1))];
    FROM_U8[v as usize]
}

impl Class {
    /// `\p{L}`.
    #[inline]
    pub(crate) fn is_letter(self) -> bool {
        matches!(self, Class::Upper | Class::Lower | Class::LetterOther)
    }
    /// `[^\s\p{L}\p{N}]`.
    #[inline]
    pub(crate) fn is_punct(self) -> bool {
        matches!(self, Class::Other | Class::Mark)
    }
}
