// Package deploy holds no code: its tests check the deployment files at the
// top of the repository (docker-compose.yml, Dockerfile), which no test here
// can run, since these machines have no Docker engine.
package deploy
