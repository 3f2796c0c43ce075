package api

import (
	"net/http"

	"github.com/wharf-dev/wharf/internal/eventactions"
)

type eventActionShape struct {
	Action    eventactions.Action `json:"Action"`
	Arn       string              `json:"Arn"`
	CreatedAt timestamp           `json:"CreatedAt"`
	Event     eventactions.Event  `json:"Event"`
	Id        string              `json:"Id"`
	UpdatedAt timestamp           `json:"UpdatedAt"`
	Tags      map[string]string   `json:"Tags,omitempty"`
}

func eventActionOut(v eventactions.View) eventActionShape {
	dataSetID := v.DataSetID
	return eventActionShape{
		Action:    v.Action,
		Arn:       v.ARN,
		CreatedAt: timestamp(v.CreatedAt),
		Event:     eventactions.Event{RevisionPublished: &eventactions.RevisionPublished{DataSetId: &dataSetID}},
		Id:        v.ID,
		UpdatedAt: timestamp(v.UpdatedAt),
		Tags:      v.Tags,
	}
}

type createEventActionRequest struct {
	Action *eventactions.Action `json:"Action"`
	Event  *eventactions.Event  `json:"Event"`
	Tags   map[string]string    `json:"Tags"`
}

type updateEventActionRequest struct {
	Action *eventactions.Action `json:"Action"`
}

type listEventActionsResponse struct {
	EventActions []eventActionShape `json:"EventActions"`
	NextToken    string             `json:"NextToken,omitempty"`
}

func (s *server) createEventAction(r *http.Request, account string) (int, any, error) {
	var req createEventActionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.eventActions.Create(r.Context(), account, eventactions.CreateInput{
		Action: req.Action, Event: req.Event, Tags: req.Tags,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, eventActionOut(v), nil
}

func (s *server) getEventAction(r *http.Request, account string) (int, any, error) {
	v, err := s.eventActions.Get(r.Context(), account, r.PathValue("EventActionId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, eventActionOut(v), nil
}

func (s *server) updateEventAction(r *http.Request, account string) (int, any, error) {
	var req updateEventActionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := s.eventActions.Update(r.Context(), account, r.PathValue("EventActionId"), req.Action)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, eventActionOut(v), nil
}

func (s *server) deleteEventAction(r *http.Request, account string) (int, any, error) {
	if err := s.eventActions.Delete(r.Context(), account, r.PathValue("EventActionId")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *server) listEventActions(r *http.Request, account string) (int, any, error) {
	page, err := pageInput(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.eventActions.List(r.Context(), account, eventactions.ListInput{
		EventSourceID: r.URL.Query().Get("eventSourceId"), PageInput: page,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listEventActionsResponse{
		EventActions: listOut(out.Items, eventActionOut),
		NextToken:    out.NextToken,
	}, nil
}
