//! Socket Mode: `apps.connections.open` with the app-level token gives a WebSocket URL; Slack says `hello`, then
//! sends envelopes, each acknowledged at once with its `envelope_id` (Slack wants the ack within 3 s, whatever the
//! handler takes), and a `disconnect` when it wants the socket replaced: the new one is opened before the old one
//! is closed, so nothing falls between. Slack may give one event to any of the app's sockets and give it again
//! (`retry_attempt`): each is recorded in PostgreSQL and handled once across instances.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use career_circle_core::app::Platform;
use career_circle_core::chat::ChatError;
use career_circle_core::store::events_seen;

use crate::events::Handler;
use crate::web::{self, Body};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket that says nothing for this long is taken for dead (Slack pings every few seconds).
const IDLE: Duration = Duration::from_secs(60);
/// How long a form's ack waits for the handler to say whether the values are refused.
const FORM_ACK_WAIT: Duration = Duration::from_millis(2_500);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// How the bot reaches Socket Mode.
#[derive(Clone)]
pub struct SocketSettings {
    pub app_token: String,
    pub api_base: String,
    pub client: reqwest::Client,
}

/// Asks Slack for a socket URL and connects to it.
pub async fn open(settings: &SocketSettings) -> Result<Socket, ChatError> {
    let answer = web::call_with(
        &settings.client,
        &settings.api_base,
        &settings.app_token,
        "apps.connections.open",
        &json!({}),
        Body::Form,
    )
    .await?;
    let url = answer["url"]
        .as_str()
        .ok_or_else(|| ChatError::Transient("apps.connections.open gave no url".to_owned()))?;
    let (socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| {
        ChatError::Transient(format!("cannot open the Socket Mode connection: {e}"))
    })?;
    Ok(socket)
}

enum Ended {
    Shutdown,
    Reconnect,
}

/// Holds a socket open (and replaces it when Slack asks or it dies) until `shutdown` turns true. A token Slack
/// rejects ends it with the error, since reconnecting cannot help.
pub async fn serve(
    settings: SocketSettings,
    handler: Handler,
    connected: Arc<AtomicBool>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ChatError> {
    let mut backoff = Duration::from_secs(1);
    while !*shutdown.borrow() {
        match open(&settings).await {
            Ok(socket) => {
                backoff = Duration::from_secs(1);
                match serve_socket(socket, &settings, &handler, &connected, &mut shutdown).await {
                    Ended::Shutdown => break,
                    Ended::Reconnect => continue,
                }
            }
            Err(e @ ChatError::Broken { .. }) => {
                connected.store(false, Ordering::Relaxed);
                return Err(e);
            }
            Err(e) => {
                connected.store(false, Ordering::Relaxed);
                tracing::warn!(error = %e, wait = ?backoff, "Socket Mode connection failed; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    connected.store(false, Ordering::Relaxed);
    Ok(())
}

async fn serve_socket(
    mut socket: Socket,
    settings: &SocketSettings,
    handler: &Handler,
    connected: &Arc<AtomicBool>,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    // Acks from handlers that answer late (forms) come back through here.
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<String>();
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(IDLE, socket.next()) => frame,
            Some(ack) = ack_rx.recv() => {
                if let Err(e) = socket.send(Message::Text(ack)).await {
                    tracing::warn!(error = %e, "could not send an ack; reconnecting");
                    return Ended::Reconnect;
                }
                continue;
            }
            _ = shutdown.changed() => {
                let _closing = socket.close(None).await;
                return Ended::Shutdown;
            }
        };
        let text = match frame {
            Err(_) => {
                tracing::warn!("the Socket Mode connection went quiet; reconnecting");
                return Ended::Reconnect;
            }
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                connected.store(false, Ordering::Relaxed);
                return Ended::Reconnect;
            }
            Ok(Some(Ok(Message::Text(text)))) => text,
            // Pings are answered by the library on the next read or write.
            Ok(Some(Ok(_))) => continue,
        };
        let Some(frame) = read(&text) else { continue };
        match frame["type"].as_str().unwrap_or_default() {
            "hello" => connected.store(true, Ordering::Relaxed),
            "disconnect" => {
                tracing::info!(
                    reason = frame["reason"].as_str().unwrap_or_default(),
                    "Slack asks for a new socket"
                );
                // The new socket first; the old one is still read until Slack closes it, so no envelope sent on
                // it in between is lost.
                match open(settings).await {
                    Ok(new) => {
                        let old = std::mem::replace(&mut socket, new);
                        tokio::spawn(drain(old, handler.clone()));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not open the replacement socket");
                        return Ended::Reconnect;
                    }
                }
            }
            _ => {
                if let Err(e) = on_envelope(&mut socket, frame, handler, &ack_tx).await {
                    tracing::warn!(error = %e, "could not ack an envelope; reconnecting");
                    return Ended::Reconnect;
                }
            }
        }
    }
}

/// How long a replaced socket is read after its last frame before it is closed from this side.
const DRAIN_QUIET: Duration = Duration::from_secs(10);

/// A replaced socket: what Slack still sends on it is handled until Slack closes it or it goes quiet.
async fn drain(mut socket: Socket, handler: Handler) {
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<String>();
    loop {
        tokio::select! {
            frame = tokio::time::timeout(DRAIN_QUIET, socket.next()) => match frame {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let Some(frame) = read(&text) else { continue };
                    if frame["envelope_id"].is_string()
                        && on_envelope(&mut socket, frame, &handler, &ack_tx).await.is_err()
                    {
                        break;
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => break,
                Ok(Some(Ok(_))) => {}
            },
            Some(ack) = ack_rx.recv() => {
                if socket.send(Message::Text(ack)).await.is_err() {
                    break;
                }
            }
        }
    }
    let _closing = socket.close(None).await;
}

fn read(text: &str) -> Option<Value> {
    match serde_json::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable Socket Mode frame");
            None
        }
    }
}

/// Acks an envelope at once (a form's ack waits for its check, briefly) and hands it to its handler.
async fn on_envelope(
    socket: &mut Socket,
    frame: Value,
    handler: &Handler,
    acks: &mpsc::UnboundedSender<String>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let Some(envelope_id) = frame["envelope_id"].as_str().map(str::to_owned) else {
        return Ok(());
    };
    let kind = frame["type"].as_str().unwrap_or_default().to_owned();
    let is_form = kind == "interactive" && frame["payload"]["type"] == "view_submission";
    if !is_form {
        // At once, before any work: Slack redelivers what is not acked within 3 s.
        socket
            .send(Message::Text(
                json!({ "envelope_id": envelope_id }).to_string(),
            ))
            .await?;
    }
    tokio::spawn(dispatch(
        handler.clone(),
        frame,
        envelope_id,
        kind,
        is_form,
        acks.clone(),
    ));
    Ok(())
}

/// Handles one envelope once across instances; a form's ack carries its errors when the handler finds any in
/// time, and is sent empty otherwise.
async fn dispatch(
    handler: Handler,
    frame: Value,
    envelope_id: String,
    kind: String,
    is_form: bool,
    acks: mpsc::UnboundedSender<String>,
) {
    let payload = &frame["payload"];
    let key = match payload["event_id"].as_str() {
        Some(event) => format!("event:{event}"),
        None => format!("envelope:{envelope_id}"),
    };
    match events_seen::first_time(&handler.app.pool, Platform::Slack, &key, handler.app.now()).await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(key, "an envelope handled already");
            if is_form {
                let _gone = acks.send(json!({ "envelope_id": envelope_id }).to_string());
            }
            return;
        }
        // Better twice than never: the handlers' own keys (one check-in per period) still hold.
        Err(e) => tracing::warn!(error = %e, "could not record an envelope"),
    }
    let owned = payload.clone();
    let kind_of_work = kind.clone();
    // Its own task, so a form that outlasts the ack's wait is still saved.
    let mut work = tokio::spawn(async move { handler.handle(&kind_of_work, &owned).await });
    if is_form {
        let mut ack = json!({ "envelope_id": envelope_id });
        match tokio::time::timeout(FORM_ACK_WAIT, &mut work).await {
            Ok(Ok(Ok(Some(errors)))) => ack["payload"] = errors,
            Ok(Ok(Ok(None))) => {}
            Ok(Ok(Err(e))) => report(&kind, &e),
            Ok(Err(e)) => tracing::error!(error = %e, "a form's handler panicked"),
            Err(_) => {
                tracing::warn!("a form took too long to check; acked without errors");
                let _gone = acks.send(ack.to_string());
                if let Ok(Err(e)) = work.await {
                    report(&kind, &e);
                }
                return;
            }
        }
        // The socket may be gone; Slack then shows the member its own error.
        let _gone = acks.send(ack.to_string());
        return;
    }
    match work.await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => report(&kind, &e),
        Err(e) => tracing::error!(error = %e, "an envelope's handler panicked"),
    }
}

fn report(kind: &str, e: &anyhow::Error) {
    let id = career_circle_core::telemetry::report(e);
    tracing::warn!(error_id = %id, kind, "a Slack envelope could not be handled");
}
