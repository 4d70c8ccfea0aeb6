//! Pure types and rules: no I/O, no async, nothing of the rest of the crate.

pub mod action;
pub mod bet;
pub mod checkin;
pub mod commitment;
pub mod delivery;
pub mod membership;
pub mod narrative;
pub mod opportunity;
pub mod period;
pub mod recurrence;
pub mod review;
pub mod scorecard;
pub mod spec;
pub mod story;
pub mod zone;

/// A closed set of words stored as text: `as_str` for the database and the screen, a strict `FromStr` for reading
/// them back (an unknown word is an error, never a silent default).
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with the stored word, as tests and logs read it.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::UnknownWord {
                        what: stringify!($name),
                        word: s.chars().take(40).collect(),
                    }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

/// A stored word that is not one of its type's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{word}\" is not a known {what}")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
}
