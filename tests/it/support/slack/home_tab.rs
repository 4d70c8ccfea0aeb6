//! Presses on the bot's Home tab, shaped like Slack's (`block_actions_home_tab_view.json` among the SDK payloads):
//! the container is the view, and there is no channel and no response_url, so an answer can only be a modal (on
//! the press's trigger_id) or a message the bot posts itself.

use serde_json::{Value, json};

use super::{APP_ID, LoopbackSlack, TEAM};

impl LoopbackSlack {
    /// A member presses the button `action_id` on the Home view last published for them.
    pub fn press_on_home(&self, user: &str, action_id: &str) -> Value {
        let (_, view) = self
            .published()
            .into_iter()
            .rev()
            .find(|(u, _)| u == user)
            .expect("a Home view published for the member");
        let button = view["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .find(|e| e["action_id"] == action_id)
            .expect("the button on the Home view");
        let view_id = "V0HOMETAB1";
        let mut shown = view.clone();
        shown["id"] = json!(view_id);
        shown["team_id"] = json!(TEAM);
        shown["state"] = json!({"values": {}});
        shown["app_id"] = json!(APP_ID);
        shown["app_installed_team_id"] = json!(TEAM);
        let payload = json!({
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "loopback"},
            "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "loopback-verification",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.trigger(),
            "view": shown,
            "actions": [{
                "action_id": action_id, "block_id": "b1", "text": button["text"], "value": button["value"],
                "type": "button", "action_ts": "1767225600.000002",
            }],
        });
        let env = self.envelope("interactive", payload);
        self.send_frame(&env);
        env
    }
}
