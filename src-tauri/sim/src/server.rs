//! Shared state, router assembly, start and shutdown of the simulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{self, ControlRefusal};
use crate::faults::Faults;
use crate::jira::JiraData;
use crate::oauth::Tokens;
use crate::store::Store;
use crate::va::Va;
use crate::{control, data, fixture, jira, oauth, table_api, va, SimConfig, SimError};

/// Everything the handlers share. Locks are std locks: no handler holds one across an await.
pub struct AppState {
    pub store: RwLock<Store>,
    pub jira: RwLock<JiraData>,
    pub tokens: Mutex<Tokens>,
    pub faults: Mutex<Faults>,
    pub va: Va,
    /// `http://127.0.0.1:PORT`, used in reference links, `Link` headers and Jira `self` URLs.
    pub base_url: String,
}

/// A simulator serving in the background.
pub struct RunningSim {
    pub(crate) addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
    let mut dataset = data::generate(
        if config.fixture.is_some() {
            0
        } else {
            config.incidents
        },
        config.seed,
    );
    if let Some(path) = &config.fixture {
        fixture::load(path, &mut dataset)?;
    }
    if let Some(url) = &config.va_webhook {
        va::validate_webhook(url)?;
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|source| SimError::Bind {
            port: config.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        port: config.port,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let store = Store::new(dataset, config.seed);
    let jira = JiraData::from_store(&store);
    let state = Arc::new(AppState {
        store: RwLock::new(store),
        jira: RwLock::new(jira),
        tokens: Mutex::new(Tokens::with_client_credentials(
            config.oauth_client_credentials,
        )),
        faults: Mutex::new(Faults::new(config.seed)),
        va: Va::new(
            config.va_webhook.clone(),
            config.va_webhook_secret.clone(),
            config.seed,
        ),
        base_url,
    });
    let app = router(Arc::clone(&state));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "simulator server stopped with an error");
        }
    });
    tracing::info!(%addr, "simulator listening");
    Ok(RunningSim { addr, stop, task })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(table_api::routes())
        .route("/oauth_token.do", post(oauth::token_endpoint))
        .merge(jira::routes())
        .merge(va::routes())
        .merge(control::routes())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::faults::apply,
        ))
        .layer(middleware::from_fn(guard_control))
        .with_state(state)
}

async fn fallback() -> Response {
    crate::errors::servicenow(
        StatusCode::BAD_REQUEST,
        "Requested URI does not represent any resource",
        None,
    )
}

/// Guards the `/sim` control API: it only answers requests addressed to a loopback name (checked
/// first), so a web page cannot drive it through DNS rebinding, and only with the HTTP Basic
/// credentials of an account with the `admin` role (`admin / admin`): 401 with a
/// `WWW-Authenticate` challenge without them, 403 for a valid account lacking the role. Refused
/// requests never reach a control handler, so they change nothing.
async fn guard_control(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/sim" || path.starts_with("/sim/") {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
            return (
                StatusCode::FORBIDDEN,
                "control API is reachable through loopback names only",
            )
                .into_response();
        }
        match auth::control_access(request.headers()) {
            Ok(_) => {}
            Err(ControlRefusal::Unauthenticated) => {
                let mut response = control::error(
                    StatusCode::UNAUTHORIZED,
                    "the simulator's control API needs the simulator's admin credentials \
                     (admin / admin) as HTTP Basic auth",
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CONTROL_CHALLENGE),
                );
                return response;
            }
            Err(ControlRefusal::NotAdmin(user)) => {
                return control::error(
                    StatusCode::FORBIDDEN,
                    format!(
                        "the simulator's control API needs an account with the admin role; \
                         {user} does not have it (use the simulator's admin credentials, \
                         admin / admin)"
                    ),
                );
            }
        }
    }
    next.run(request).await
}

/// The challenge of a 401 from the control API.
const CONTROL_CHALLENGE: &str = "Basic realm=\"supportbot-sim control\"";
