package main

import "github.com/nats-io/nats-server/v2/server"

type natsUser struct{ name, password string }

func (u *natsUser) server() *server.User { return &server.User{Username: u.name, Password: u.password} }
