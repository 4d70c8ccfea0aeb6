//! Who is in a circle, and as what.

use crate::domain::text_enum;

text_enum! {
    /// A member's part in a circle: organisers change its settings and start its reviews.
    pub enum Role {
        Organiser = "organiser",
        Member = "member",
    }
}
