//! What can stop a review on the platform, in the terms an organiser can fix.

use crate::domain::text_enum;

text_enum! {
    /// Why a review could not open or post its summary. Stored on the review until the step works.
    pub enum ReviewProblem {
        /// The home channel (or the thread) is gone: deleted, or the bot can no longer see it.
        ChannelGone = "channel_gone",
        /// The bot lacks a permission in the channel.
        NoPermission = "no_permission",
        /// Anything else the platform refused for good.
        Other = "other",
    }
}
