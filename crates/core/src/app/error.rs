//! The two kinds of failure a use case can have: the user's (safe text, shown as is) and ours (logged with its
//! cause chain, shown as a short apology carrying an id that is in the log).

use std::fmt;

use crate::chat::Text;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub Text);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    User(UserError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    pub fn user(text: impl Into<Text>) -> Self {
        Self::User(UserError(text.into()))
    }

    /// The text a member sees: the user error itself, or an apology with the id under which the cause was logged.
    pub fn to_user_text(&self) -> Text {
        match self {
            Self::User(e) => e.0.clone(),
            Self::Unexpected(e) => {
                let id = crate::telemetry::report(e);
                Text::plain(format!(
                    "Sorry, something went wrong on our side. It has been logged as {id}; please try again."
                ))
            }
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
