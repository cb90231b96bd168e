// Package deploy holds no code: its tests check the deployment files
// (docker-compose.yml at the repository's root and deploy/.env.example)
// with the compose specification's own loader, so that the stack validates
// without Docker installed; the Dockerfile's stages; and the systemd unit
// (systemd-analyze verify, and its command line run as an unprivileged
// user in / with a state directory, as systemd runs it).
package deploy
